// Headers under deeprnn/detail/ rely on the public header that includes them.
// expected-error: deeprnn/detail/ headers are internal
#include <deeprnn/detail/recurrence.hpp>

int main() { return 0; }
