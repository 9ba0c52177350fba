/** Loads every op definition into the table (importing a file registers its ops). */
import './leaves.ts';
import './arithmetic.ts';
import './linalg.ts';
import './reductions.ts';
import './loss.ts';
import './activations.ts';
import './rows.ts';
