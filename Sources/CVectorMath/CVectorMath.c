// CVectorMath is header-only: its kernels are static inline functions that Swift compiles into
// the modules that call them. This file makes it a C target rather than a system library, so
// that SwiftPM rebuilds the Swift targets when a header changes (it does not track the headers
// of a system library's module map).
#include "shim.h"
