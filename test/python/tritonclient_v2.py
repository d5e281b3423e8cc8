"""Drives a Loom model server with the real Triton HTTP client (tritonclient.http).

Reads from the file named by its second argument: {"model": name, "rows": [{feature: value}], "output": name}. Checks
health, server and model metadata, then infers the rows four ways (JSON or binary inputs,
JSON or binary outputs), with the client's default (every output binary), and with one
refused input. Prints one JSON report on its last line; the Node test asserts on it.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype


def main() -> None:
    url = sys.argv[1]
    with open(sys.argv[2], encoding="utf-8") as file:
        spec = json.load(file)
    model, rows, output = spec["model"], spec["rows"], spec["output"]
    client = httpclient.InferenceServerClient(url=url, network_timeout=60.0)
    report = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "extensions": client.get_server_metadata()["extensions"],
        "model_ready": client.is_model_ready(model),
    }
    metadata = client.get_model_metadata(model)
    report["inputs"] = [[i["name"], i["datatype"]] for i in metadata["inputs"]]

    def inputs(binary: bool) -> list:
        made = []
        for tensor in metadata["inputs"]:
            values = [row[tensor["name"]] for row in rows]
            dtype = np.object_ if tensor["datatype"] == "BYTES" else triton_to_np_dtype(tensor["datatype"])
            array = np.array(values, dtype=dtype).reshape((len(rows), 1) if len(tensor["shape"]) == 2 else (len(rows),))
            made.append(httpclient.InferInput(tensor["name"], list(array.shape), tensor["datatype"]))
            made[-1].set_data_from_numpy(array, binary_data=binary)
        return made

    for binary_in in (False, True):
        for binary_out in (False, True):
            requested = [httpclient.InferRequestedOutput(output, binary_data=binary_out)]
            result = client.infer(model, inputs(binary_in), outputs=requested, request_id=f"triton-{binary_in}-{binary_out}")
            key = f"{'binary' if binary_in else 'json'}_in_{'binary' if binary_out else 'json'}_out"
            report[key] = result.as_numpy(output).ravel().astype(float).tolist()
            report[key + "_id"] = result.get_response()["id"]
    report["default"] = client.infer(model, inputs(True)).as_numpy(output).ravel().astype(float).tolist()

    wrong = inputs(True)
    first = metadata["inputs"][0]
    wrong[0] = httpclient.InferInput(first["name"], [len(rows), 1], "FP16")
    wrong[0].set_data_from_numpy(np.zeros((len(rows), 1), dtype=np.float16), binary_data=True)
    try:
        client.infer(model, wrong)
        report["refused"] = None
    except InferenceServerException as error:
        report["refused"] = {"status": error.status(), "message": error.message()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
