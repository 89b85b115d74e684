// zlib: gzopen/gzread for the .gz IDX files.
#include <zlib.h>
