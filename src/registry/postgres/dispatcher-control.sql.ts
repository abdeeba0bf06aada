import type { Statement } from './statement.js';

/** The shared stop flag every claim reads. $1 stopped. */
export const SET_STOPPED: Statement = {
  text: `INSERT INTO dispatcher_control (id, stopped) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET stopped = $1, updated_at = now()`,
};

export const IS_STOPPED: Statement = {
  name: 'registry-stopped',
  text: 'SELECT stopped FROM dispatcher_control WHERE id = 1',
};
