/** The notifications context: importing it registers its activities. */
import './send-confirmation';
import './send-cancellation';
