// zlib for the gzip fuzz target (gzwrite).
#include <zlib.h>
