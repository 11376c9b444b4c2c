/* bench/profile only. Profiling aid: valgrind cannot follow libdispatch's dispatch_main() (the main thread exits
 * through pthread_exit and parks in sigsuspend). This replacement keeps the main thread and
 * drains the main queue the way a run loop does, through libdispatch's run-loop hooks. */
#include <poll.h>
#include <stdint.h>
extern int _dispatch_get_main_queue_handle_4CF(void);
extern void _dispatch_main_queue_callback_4CF(void *msg);
void dispatch_main(void) {
    int fd = _dispatch_get_main_queue_handle_4CF();
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        poll(&p, 1, -1);
        _dispatch_main_queue_callback_4CF(0);
    }
}
