"""Runs inside `python3.13 -I -S`: imports one function from .aws-sam/build with only its
own code and the built layers on sys.path (as Lambda lays them out under /var/task and
/opt/python), invokes it with the given events, and prints the responses as JSON."""

import json
import sys


def main() -> None:
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = [spec["function_dir"], *spec["layer_dirs"]]
    import app  # the built functions/<name>/app.py
    import jinja2
    import newsdesk

    origins = {"newsdesk": newsdesk.__file__, "jinja2": jinja2.__file__, "app": app.__file__}

    class Context:
        function_name = "built"
        function_version = "$LATEST"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:built"
        aws_request_id = "built-request"

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    responses = [app.lambda_handler(event, Context()) for event in spec["events"]]
    print("\n@@RESULT@@" + json.dumps({"origins": origins, "responses": responses}))


main()
