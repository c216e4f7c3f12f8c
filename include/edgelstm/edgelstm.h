// The whole edgelstm core in one include.
#pragma once

#include "edgelstm/activations.h"
#include "edgelstm/kernels.h"
#include "edgelstm/loss.h"
#include "edgelstm/lstm_cell.h"
#include "edgelstm/memory_plan.h"
#include "edgelstm/network.h"
#include "edgelstm/optimizer.h"
#include "edgelstm/random.h"
#include "edgelstm/span.h"
#include "edgelstm/spec.h"
#include "edgelstm/status.h"
