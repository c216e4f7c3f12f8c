// The whole edgelstm core in one include. Core headers include each other by sibling name, so the
// core works from any include path (CMake, ESP-IDF, PlatformIO, Arduino's src/ wrapper).
#pragma once

#include "activations.h"
#include "crc32.h"
#include "kernels.h"
#include "fixed_point.h"
#include "hybrid_network.h"
#include "integer_kernels.h"
#include "integer_network.h"
#include "integer_quantize.h"
#include "loss.h"
#include "lstm_cell.h"
#include "memory_plan.h"
#include "model_format.h"
#include "network.h"
#include "optimizer.h"
#include "quantize.h"
#include "random.h"
#include "simd.h"
#include "span.h"
#include "spec.h"
#include "status.h"
