#!/usr/bin/env bash
# Creates (or checks) the Python venv of the reference implementations that tests and
# example smokes compare Cohort with: NumPy, PyTorch (CPU), safetensors, TensorBoard, ONNX with
# ONNX Runtime (the ONNX export and int8 checks), tritonclient[http] (a real client of `cohort serve`),
# Gymnasium and Stable-Baselines3 (the RL environments' reference trajectories and the PPO peer) and
# statsmodels (the SARIMA forecasting reference) and Pillow (PNG files the PNG reader must decode). It lives
# outside the repository, at ${COHORT_VENV:-~/.cache/cohort-venv}; `make deps` runs this.
# torch: a local CPU wheel from pip's find-links folder (/opt/wheels here) is preferred,
# since the default torch wheel on PyPI pulls in gigabytes of CUDA libraries; without one,
# `pip install torch` from PyPI. Exits non-zero if anything is missing.
set -euo pipefail
venv=${COHORT_VENV:-$HOME/.cache/cohort-venv}
if "$venv/bin/python" -c "import numpy, torch, tensorboard, safetensors, onnx, onnxruntime, tritonclient.http, gymnasium, stable_baselines3, statsmodels, PIL" 2>/dev/null; then
  echo "reference venv: $venv (numpy, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), safetensors, tensorboard, onnxruntime $("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)'), tritonclient, gymnasium, stable-baselines3, statsmodels, pillow)"
  exit 0
fi
echo "reference venv: installing numpy, torch (CPU), safetensors, tensorboard, onnx, onnxruntime, tritonclient[http], gymnasium, stable-baselines3, statsmodels and pillow into $venv"
python3 -m venv "$venv"
pip=("$venv/bin/pip" install -q)
wheel=""
for dir in ${PIP_FIND_LINKS:-} /opt/wheels; do
  for w in "$dir"/torch-*+cpu-*.whl; do [ -e "$w" ] && wheel=$w; done
  [ -n "$wheel" ] && break
done
if [ -n "$wheel" ]; then "${pip[@]}" "$wheel"; else "${pip[@]}" torch; fi
"${pip[@]}" numpy tensorboard safetensors onnx onnxruntime "tritonclient[http]" gymnasium stable-baselines3 statsmodels pillow
"$venv/bin/python" -c "import numpy, torch, tensorboard, safetensors, onnx, onnxruntime, tritonclient.http, gymnasium, stable_baselines3, statsmodels, PIL; print('reference venv: torch', torch.__version__)"
