/* loop_until.h - test support: runs a real loop (common/loop.h) until a
 * condition holds or a deadline passes, so a test waits for what it expects
 * (a request read, a callback run) and never hangs.
 *
 * A timer repeating every LOOP_UNTIL_TICK_MS checks the condition and the
 * deadline, and stops the loop when either is met. With no condition the
 * loop runs for the whole time: a test sees that nothing happens meanwhile.
 * The condition is checked between loop iterations only, never inside a
 * callback.
 *
 *     static int called(void *arg) { return ((struct fx *)arg)->called > 0; }
 *
 *     struct loop_until *lu = loop_until_new(loop);
 *     assert_true(loop_until_run(lu, called, f, 5000));  // waited for it
 *     loop_until_run(lu, NULL, NULL, 150);               // 150 ms of loop
 *     loop_until_free(lu);                               // before loop_free
 */
#ifndef TEST_LOOP_UNTIL_H
#define TEST_LOOP_UNTIL_H

#define LOOP_UNTIL_TICK_MS 5        /* how often the condition is checked */

struct loop;
struct loop_until;

/* A condition: non-zero when what the test waits for has happened. */
typedef int loop_until_cond(void *arg);

/* Returns a runner over loop (owns; loop_until_free). The loop is borrowed:
 * it must outlive the runner. Fails the test when the timer cannot be made. */
struct loop_until *loop_until_new(struct loop *loop);

/* Runs the loop until cond(arg) holds or ms have passed (cond NULL: for ms).
 * Returns cond(arg) once the loop has stopped, 0 for a NULL cond. arg is
 * borrowed for the call. Not to be called from a callback of that loop. */
int loop_until_run(struct loop_until *lu, loop_until_cond *cond, void *arg, int ms);

/* Stops and frees the runner's timer; accepts NULL. */
void loop_until_free(struct loop_until *lu);

#endif
