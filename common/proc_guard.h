/* proc_guard.h - keeps a process's memory to itself.
 *
 * The worker holds its secrets (database, Redis and model credentials) in
 * its environment and memory, and starts programs that read untrusted input
 * (the linters) as the same user. A dumpable process's /proc/<pid>/environ,
 * /proc/<pid>/mem and ptrace are open to every process of its user; an
 * undumpable one's are not (only to a holder of CAP_SYS_PTRACE), and it
 * leaves no core file. The programs it starts are dumpable again after
 * their execve: the guard is the caller's own.
 */
#ifndef CI_PROC_GUARD_H
#define CI_PROC_GUARD_H

/* Makes the calling process undumpable (PR_SET_DUMPABLE 0). Returns 0, or
 * -1 with errno set. */
int proc_guard_secrets(void);

#endif
