// setns(2) with CLONE_NEWNET: the calling thread only, which is what a caller
// saving its own namespace's fd and coming back to it needs.
#include "live/netns.hpp"

#include <sched.h>

#include <cerrno>
#include <system_error>

namespace hp::live {

void enter_network_namespace(int fd) {
    if (::setns(fd, CLONE_NEWNET) != 0) throw std::system_error(errno, std::generic_category(), "setns");
}

}  // namespace hp::live
