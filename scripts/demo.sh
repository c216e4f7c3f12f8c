#!/usr/bin/env bash
# Sets up (Debian 12 packages), builds and runs the demo on the real use case: a smart-meter
# forecaster for the half-hourly England & Wales demand (Taylor 2000, in data/):
#   1. train the default forecaster: an LSTM that learns the one-step error of double seasonal
#      Holt-Winters (chosen on the validation week; the last two weeks held out),
#   2. evaluate it on the last two weeks beside persistence, seasonal naive (a day and a week
#      before), persistence + last week's change and double seasonal Holt-Winters (as R fits it,
#      and fitted to convergence),
#   3. stream the whole series reading by reading (forecast, then learn) as a meter on the device,
#      from scratch and from the trained model (beside it frozen),
#   4. write report/report.md with the metric table and SVG plots,
# with PyTorch training the same network beside it, one household meter (kWh, readings of 0), a
# Seattle weather classifier, the weight quantization study (report/quantization.md), home battery
# control: the paper's 6 x 100 LSTM policy trained on a MILP optimiser's actions against tabular
# Q-learning (report/policy.md), the forecaster shared between two devices (`edgelstm cluster`,
# docs/distributed.md), and a fleet of self-learning meters against a gateway platform on a real
# broker (report/fleet/fleet.md, with the scale benchmark).
# Then the paper's 6 x 100 network learns a sine wave in a static arena (examples/sine_demo.cpp), and
# emulated boards wired by serial lines run the forecaster split in two and train the paper's network
# across four 128 KB boards (scripts/cluster_demo.sh: one week of the stream; --full for all of it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target edgelstm_cli edgelstm_sine_demo -j"$(nproc)"
edgelstm=build/default/cli/edgelstm
data=data/taylor_england_wales_halfhourly_demand_2000.csv
mkdir -p report
echo "== 1. train"
"$edgelstm" train --data "$data" --model report/taylor.elstm --hidden 32 --window 12 --epochs 40 --patience 6 --seed 1 \
  --save-initial report/taylor.initial.elstm --export-dataset report/dataset
echo "== 1b. the same network trained by PyTorch (same data, split, initial weights, shuffle, epochs)"
python=python3
"$python" -c "import torch" 2>/dev/null || python=/usr/bin/python3
reference=$("$python" tools/torch_forecast_reference.py --initial report/taylor.initial.elstm --dataset report/dataset \
  --epochs 40 --patience 6 --seed 1 | tee /dev/stderr | sed -n 's/^pytorch test MAE .* MAPE \([0-9.]*\)%$/\1/p')
echo "== 2. evaluate on the last two weeks"
"$edgelstm" eval --data "$data" --model report/taylor.elstm --report report --reference-mape "$reference"
echo "== 2b. the LSTM alone (--base none: the network carries the whole forecast); the quantization study"
echo "      and the full-integer path (int8 weights, int16 activations, for cores without an FPU) use it"
"$edgelstm" train --data "$data" --model report/taylor_lstm.elstm --base none --seed 1 | tail -n 2
"$edgelstm" eval --data "$data" --model report/taylor_lstm.elstm | sed -n 3p
"$edgelstm" quantize --integer --data "$data" --model report/taylor_lstm.elstm --out report/taylor.integer.elstm
"$edgelstm" eval --data "$data" --model report/taylor.integer.elstm | sed -n 3p
echo "== 3. online: the meter learns reading by reading, from scratch, then from the trained model (beside it frozen)"
"$edgelstm" online --data "$data" | tail -n 4
"$edgelstm" online --data "$data" --model report/taylor.elstm --report report
"$edgelstm" inspect report/taylor.elstm | head -n 8
echo "== 3b. a household meter (SGSC, kWh per half-hour; readings of 0 in its test span)"
sgsc=data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv
"$edgelstm" train --data "$sgsc" --value-column 10017516 --model report/household.elstm | grep -E '^(base|kept)'
"$edgelstm" eval --data "$sgsc" --value-column 10017516 --model report/household.elstm
echo "== 4. classify: today's Seattle weather from the previous 7 days"
seattle=data/seattle_weather_daily_2012_2015.csv
"$edgelstm" train --task classify --data "$seattle" --time-column date --label-column weather \
  --feature-columns precipitation,temp_max,temp_min,wind --window 7 --hidden 16 --lr 0.003 \
  --validation-days 180 --test-days 365 --model report/seattle.elstm | tail -n 1
"$edgelstm" eval --data "$seattle" --time-column date --model report/seattle.elstm --validation-days 180 \
  --test-days 365 --report report
echo "== 5. weight quantization study: int16 / int8 / int4, per-tensor or per-row scales, post-training or"
echo "      quantization-aware, on the LSTM alone, the Seattle classifier and a weekday/weekend classifier"
"$edgelstm" quantize --study --data "$data" --model report/taylor_lstm.elstm --classifier report/seattle.elstm \
  --classifier-data "$seattle" --report report
echo "== 6. home battery control: the 6 x 100 LSTM policy trained on the optimiser's (GLPK) actions against"
echo "      tabular Q-learning, in closed loop on the last 19 days of an SGSC household, with and without sensor noise"
"$edgelstm" policy --data data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv --meter 10006664 --report report \
  --out report/battery_policy.elstm --integer-out report/battery_policy.integer.elstm \
  --export-firmware report/battery_policy_model.h
echo "== 7. one network over two devices: the forecaster split in two (a process per device, a Mosquitto"
echo "      broker with a user and an ACL per node) forecasting then learning at each of 96 readings (two"
echo "      days); then the integer model split in two over UDP (standing for ESP-NOW)"
"$edgelstm" cluster --model report/taylor.elstm --partition split:2 --data "$data" --transport mqtt --learn \
  --steps 96 --work report/cluster | grep -v '^step ' | tail -n 14
"$edgelstm" cluster --model report/taylor.integer.elstm --partition split:2 --data "$data" --transport udp \
  --steps 96 --work report/cluster_integer | grep -v '^step ' | tail -n 8
echo "== 8. a fleet of 50 real household meters (SGSC, 58 days) on a real Mosquitto (TLS, an ACL per meter):"
echo "      self-learning meters against a gateway platform (SQLite, nightly central training), the same readings"
"$edgelstm" fleet --report report/fleet
echo "== 8b. scale: 1,000 meters on one broker and one gateway, lockstep then open loop at rising rates"
"$edgelstm" fleet --scale --meters 1000 --report report/fleet
echo "== the report: report/report.md, report/classification.md, report/quantization.md, report/policy.md,"
echo "   report/fleet/fleet.md and report/fleet/fleet_scale.md"
echo
echo "== the paper's network on the device side: 6 x 100, static arena, learning a sine wave"
build/default/examples/edgelstm_sine_demo
echo
echo "== the paper's network across four 128 KB boards linked by serial lines (emulated, one QEMU each)"
scripts/cluster_demo.sh
