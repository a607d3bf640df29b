/** The loyalty context: importing it registers its queue trigger and its HTTP functions. */
import './award-loyalty-points';
import './http/loyalty.http';
import './http/redrive-poison.http';
