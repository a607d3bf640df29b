/** The shipping context: importing it registers its activities. */
import './create-shipment';
import './cancel-shipment';
