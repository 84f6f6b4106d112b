// A C target needs one source file; everything CSystemd offers is in
// include/CSystemd.h.
#include "CSystemd.h"
