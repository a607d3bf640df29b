/** The analytics context: importing it registers its activities. */
import './record-order-fact';
import './retract-order-fact';
