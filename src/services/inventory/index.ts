/** The inventory context: importing it registers its activities. */
import './reserve-stock';
import './release-stock';
import './commit-stock';
