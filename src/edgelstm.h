// Arduino entry point: Arduino adds only src/ to the include path, so this forwards to the core.
// (CMake, ESP-IDF and PlatformIO users include "edgelstm/edgelstm.h" directly.)
#pragma once

#include "../include/edgelstm/edgelstm.h"
