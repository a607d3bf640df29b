/**
 * The app's single entry (package.json `main`): importing a context registers its functions.
 * The orders context owns the saga; the others own one step each and its compensation.
 */
import './services/orders';
import './services/payments';
import './services/inventory';
import './services/notifications';
import './services/analytics';
import './services/shipping';
