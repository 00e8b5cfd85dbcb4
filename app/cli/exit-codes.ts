/**
 * Exit codes, for scripts and service managers:
 *  0  success (for `sync --once`: every database reached the end of its feed)
 *  1  the run finished but not everything succeeded (partial, offline, timeout, a failed model)
 *  2  a user error: configuration, credentials, a missing database — fix the setting named
 *  3  an unexpected internal error (details in the log file)
 *  130 stopped by Ctrl-C / SIGTERM
 */
export const EXIT = { ok: 0, incomplete: 1, userError: 2, internal: 3, interrupted: 130 } as const;
