"""Use a trained model: predict from a run or an export, export to ONNX/TorchScript, serve over HTTP.

    manifest.py  the export directory's manifest and its sha256 checks (no torch)
    predict.py   predictors: OnnxPredictor (export, no torch) and RunPredictor (run, eager PyTorch)
    checks.py    inputs and outputs the network cannot compute with (too large for float32), by row and field
    export.py    export + parity check against the eager model
    server.py    the FastAPI app and `serve()`

Nothing heavy is imported here, so the CLI can reach these modules without paying for torch.
"""
