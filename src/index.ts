/**
 * The app's single entry (package.json `main`): importing a context registers its functions.
 * The orders context owns the saga; five others own one step each and its compensation; loyalty
 * only reacts to the facts the saga publishes (choreography) and is never called by it.
 */
import './services/orders';
import './services/payments';
import './services/inventory';
import './services/notifications';
import './services/analytics';
import './services/shipping';
import './services/loyalty';
