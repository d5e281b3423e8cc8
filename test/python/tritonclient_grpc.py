"""Drives a Loom model server's gRPC endpoint with the real Triton gRPC client (tritonclient.grpc).

Reads from the file named by its second argument: {"model": name, "rows": [{feature: value}],
"output": name, "token": a token that may predict, "denied": a token that may not}. Checks
health (no token), server and model metadata and readiness, infers the rows (raw contents,
numeric and BYTES inputs) with and without naming the output, then the refusals: no token, a
token without `predict`, a wrong datatype, an unknown model. Prints one JSON report on its
last line; the Node test asserts on it.
"""
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype


def main() -> None:
    address = sys.argv[1]
    with open(sys.argv[2], encoding="utf-8") as file:
        spec = json.load(file)
    model, rows, output = spec["model"], spec["rows"], spec["output"]
    auth = {"authorization": f"Bearer {spec['token']}"}
    client = grpcclient.InferenceServerClient(url=address)
    server = client.get_server_metadata(headers=auth, as_json=True)
    report = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "server": [server["name"], server["version"]],
        "model_ready": client.is_model_ready(model, headers=auth),
        "unknown_model_ready": client.is_model_ready("no-such-model", headers=auth),
    }
    metadata = client.get_model_metadata(model, headers=auth, as_json=True)
    report["versions"] = metadata["versions"]
    report["inputs"] = [[i["name"], i["datatype"], [int(d) for d in i["shape"]]] for i in metadata["inputs"]]

    def inputs() -> list:
        made = []
        for tensor in metadata["inputs"]:
            values = [row[tensor["name"]] for row in rows]
            dtype = np.object_ if tensor["datatype"] == "BYTES" else triton_to_np_dtype(tensor["datatype"])
            array = np.array(values, dtype=dtype).reshape((len(rows), 1) if len(tensor["shape"]) == 2 else (len(rows),))
            made.append(grpcclient.InferInput(tensor["name"], list(array.shape), tensor["datatype"]))
            made[-1].set_data_from_numpy(array)
        return made

    named = client.infer(model, inputs(), outputs=[grpcclient.InferRequestedOutput(output)], request_id="grpc-named", headers=auth)
    response = named.get_response(as_json=True)
    report["named"] = named.as_numpy(output).ravel().astype(float).tolist()
    report["named_id"] = response["id"]
    report["named_outputs"] = [o["name"] for o in response["outputs"]]
    report["model_version"] = response["model_version"]
    every = client.infer(model, inputs(), headers=auth)
    report["all"] = every.as_numpy(output).ravel().astype(float).tolist()
    report["all_outputs"] = [o["name"] for o in every.get_response(as_json=True)["outputs"]]
    report["all_id"] = every.get_response(as_json=True)["id"]

    def refused(call) -> dict:
        try:
            call()
            return {"status": None, "message": None}
        except InferenceServerException as error:
            return {"status": error.status(), "message": error.message()}

    report["no_token"] = refused(lambda: client.infer(model, inputs()))
    report["no_token_metadata"] = refused(lambda: client.get_model_metadata(model))
    report["denied"] = refused(lambda: client.infer(model, inputs(), headers={"authorization": f"Bearer {spec['denied']}"}))
    report["denied_metadata_ok"] = client.get_model_metadata(model, headers={"authorization": f"Bearer {spec['denied']}"}, as_json=True)["name"] == model
    wrong = inputs()
    first = metadata["inputs"][0]
    wrong[0] = grpcclient.InferInput(first["name"], [len(rows), 1], "FP16")
    wrong[0].set_data_from_numpy(np.zeros((len(rows), 1), dtype=np.float16))
    report["wrong_datatype"] = refused(lambda: client.infer(model, wrong, headers=auth))
    report["unknown_model"] = refused(lambda: client.infer("no-such-model", inputs(), headers=auth))
    client.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
