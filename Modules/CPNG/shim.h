// libpng simplified API (png_image_write_*): no setjmp needed, which Swift cannot call.
#include <png.h>
