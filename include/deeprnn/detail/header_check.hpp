// Included first by every header under detail/: those headers are internal and rely on the
// public header that includes them.
#ifndef DEEPRNN_CORE_HPP
#error "deeprnn/detail/ headers are internal: include <deeprnn/deeprnn.hpp> or a public header."
#endif
