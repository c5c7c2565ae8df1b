// Moving the calling thread into another network namespace (setns(2)), so that
// sockets opened afterwards live there: the engine opens its interfaces in the
// gateway's namespace, and tests open the engine's and the hosts' sockets in the
// namespaces they made, from one process. A socket keeps its namespace for life.
#pragma once

namespace hp::live {

// Enters the network namespace that the open file `fd` names (/var/run/netns/NAME,
// /proc/self/ns/net); throws std::system_error.
void enter_network_namespace(int fd);

}  // namespace hp::live
