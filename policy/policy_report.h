// The study's report: policy.md (Markdown tables, the published anchors, the target's verdict)
// and SVG plots drawn by gnuplot (host/report.h), and the summary the command prints.
#pragma once

#include <string>

#include "policy/battery.h"
#include "policy/home.h"
#include "policy/policy_study.h"
#include "policy/tariff.h"

namespace edgelstm::policy {

// The results tables of both conditions (Markdown), as printed and as in the report.
std::string results_tables(const StudyResult& study);

// Whether the LSTM policy met the target in the noise-free condition, in one sentence per
// criterion ("met" / "not met" with the numbers).
std::string target_verdict(const StudyResult& study);

// Writes <directory>/policy.md and its plots (policy_*.svg); creates the directory if needed.
void write_policy_report(const StudyResult& study, const StudyOptions& options, const TimeOfUseTariff& tariff,
                         const Home& home, const std::string& directory);

// The first checkpoint whose score reaches `threshold` by `metric`, or 0 when none does.
std::size_t samples_to_reach(const std::vector<CurvePoint>& curve, double PolicyScore::*metric, double threshold);

}  // namespace edgelstm::policy
