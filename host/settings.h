// Every setting the host tools take from a model file or from an option, parsed strictly and
// checked here, in one place, before anything uses it: a lag of -999999999 read from a CRC-valid
// file must stop with a message, not index outside the series. load_model and save_model run
// check_model_settings on every model; the commands run the same checks on their options.
//
// Adding a setting (the covariate columns, the stored train/validation/test spans, ...): check it
// here — a check_* function for the value, called from check_model_settings for what a model file
// stores — so no command can read it unchecked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/features.h"
#include "host/model_io.h"

namespace edgelstm::host {

// The ranges, stated once (messages and --help quote them).
inline constexpr int kMaxWindow = 1024;         // steps per input window
inline constexpr int kMaxLag = 1000000;         // steps before the forecast step
inline constexpr std::size_t kMaxLags = 512;    // lag features
inline constexpr std::int64_t kMaxIntervalSeconds = 86400;
inline constexpr std::size_t kMaxClasses = 1024;
inline constexpr int kMaxHidden = 1024;          // units per layer the tools train
inline constexpr int kMaxTrainedLayers = 4;
inline constexpr std::size_t kMaxNameBytes = 256;  // class and column names

// A decimal integer, the whole of `text` (no sign other than a leading '-', no spaces, no suffix:
// "48abc" is not 48); false when it is not one or does not fit.
bool parse_integer(std::string_view text, std::int64_t* value);

// Window 1..kMaxWindow; each lag 1..kMaxLag, at most kMaxLags of them, none twice (a lag of 0
// would feed the target itself to the network); interval 1..kMaxIntervalSeconds seconds and a
// whole number of readings per day. InputError "feature settings: ..." otherwise.
void check_feature_config(const FeatureConfig& features);

// The size of a network the tools build: hidden 1..kMaxHidden units, 1..kMaxTrainedLayers layers
// (a spec field holds 16 bits: 70000 units would silently become 4464).
void check_network_shape(int hidden, int layers);

// A normalization (x - mean) / scale: mean and scale finite, scale above zero, and both still so
// when stored as float32. `what` names it in the message ("norm.value").
void check_normalization(double mean, double scale, const std::string& what);

// Class names: 2..kMaxClasses of them, each non-empty, at most kMaxNameBytes, without a comma (the
// model stores them comma-separated), sorted and distinct (labels index this order).
void check_class_names(const std::vector<std::string>& classes);

// Column names (classifier features, label): non-empty, at most kMaxNameBytes, no comma.
void check_column_names(const std::vector<std::string>& columns, const std::string& what);

// Every setting `model` stores, against each other and against its spec: the forecaster's feature
// settings and normalization, the classifier's classes, columns and per-feature normalization,
// the integer path's input scale; every other float tensor finite (train.history, a record of the
// training, may hold the NaN of an epoch whose every step was refused). InputError naming the
// tensor and what is wrong.
void check_model_settings(const ModelFile& model);

}  // namespace edgelstm::host
