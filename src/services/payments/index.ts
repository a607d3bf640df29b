/** The payments context: importing it registers its activities. */
import './charge-payment';
import './refund-payment';
