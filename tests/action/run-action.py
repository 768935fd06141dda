#!/usr/bin/env python3
"""Runs the steps of a composite action (action.yml) as written, the way a GitHub runner does,
for tests on a machine without one.

    run-action.py [--shellcheck SHELLCHECK] [--only STEP_ID] ACTION_YML

Inputs come from the environment as INPUT_<NAME> (upper case, `-` may be written `_`), with the
defaults of action.yml for the rest; an INPUT_ variable that names no input is an error, as is a
required input without a value. The runner's files are provided as on a runner:
GITHUB_ACTION_PATH (the action's directory), RUNNER_TEMP (a fresh directory unless set),
GITHUB_OUTPUT (per step), GITHUB_PATH (prepended to PATH for later steps), GITHUB_ENV and
GITHUB_STEP_SUMMARY (created unless set). The harness's own files, and RUNNER_TEMP unless it was
set, are removed at the end. Each `run:` goes through
`bash --noprofile --norc -eo pipefail FILE`, as `shell: bash` does, in its working-directory.

Only what this action needs is implemented, and anything else fails loudly rather than being
skipped: `shell: bash` steps with `run:`, `${{ inputs.NAME }}` expressions in `env:` and
`working-directory:`, `id:` and step outputs, and `${{ steps.ID.outputs.NAME }}` in the action's
outputs. An expression inside `run:` is refused (script injection: inputs go through `env:`).
`--shellcheck` also checks every `run:` script with shellcheck before running anything;
`--only` runs just the step with that id (e.g. the lint step, with a linter already on PATH).

Exit status: the failing step's (later steps do not run), else 0. The action's outputs, from the
steps that ran, are printed as `output NAME=VALUE`.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def die(message):
    print(f"run-action: {message}", file=sys.stderr)
    sys.exit(2)


def read_inputs(declared):
    values = {}
    by_env_name = {}
    for name, spec in declared.items():
        spec = spec or {}
        by_env_name["INPUT_" + name.upper()] = name
        by_env_name["INPUT_" + name.upper().replace("-", "_")] = name
        values[name] = str(spec.get("default", ""))
    for key, value in os.environ.items():
        if key.startswith("INPUT_"):
            if key not in by_env_name:
                die(f"{key} names no input of the action (inputs: {', '.join(declared)})")
            values[by_env_name[key]] = value
    for name, spec in declared.items():
        if (spec or {}).get("required") and not values[name]:
            die(f"input {name} is required")
    return values


def evaluate(text, inputs, steps, where):
    def replace(match):
        expression = match.group(1)
        parts = expression.split(".")
        if len(parts) == 2 and parts[0] == "inputs" and parts[1] in inputs:
            return inputs[parts[1]]
        if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
            return steps.get(parts[1], {}).get(parts[3], "")
        die(f"{where}: unsupported expression ${{{{ {expression} }}}}")

    return EXPRESSION.sub(replace, str(text))


def parse_outputs(path):
    """key=value lines and key<<DELIMITER blocks, as the runner reads GITHUB_OUTPUT."""
    outputs = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if line:
            key, _, value = line.partition("=")
            outputs[key] = value
        i += 1
    return outputs


def main():
    args = sys.argv[1:]
    shellcheck = None
    only = None
    while len(args) >= 2 and args[0] in ("--shellcheck", "--only"):
        if args[0] == "--shellcheck":
            shellcheck = args[1]
        else:
            only = args[1]
        args = args[2:]
    if len(args) != 1:
        die("usage: run-action.py [--shellcheck SHELLCHECK] [--only STEP_ID] ACTION_YML")
    action_file = os.path.abspath(args[0])
    with open(action_file, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        die("only composite actions are supported")
    inputs = read_inputs(action.get("inputs") or {})

    temp = tempfile.mkdtemp(prefix="run-action-")
    try:
        return run(action_file, action, inputs, temp, shellcheck, only)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def run(action_file, action, inputs, temp, shellcheck, only):
    runs = action["runs"]
    runner_temp = os.environ.get("RUNNER_TEMP") or os.path.join(temp, "runner-temp")
    os.makedirs(runner_temp, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("GITHUB_WORKSPACE", os.getcwd())
    env["GITHUB_ACTION_PATH"] = os.path.dirname(action_file)
    env["RUNNER_TEMP"] = runner_temp
    env.setdefault("GITHUB_STEP_SUMMARY", os.path.join(temp, "step-summary.md"))
    env["GITHUB_PATH"] = os.path.join(temp, "path")
    env["GITHUB_ENV"] = os.path.join(temp, "env")
    env["GITHUB_ACTIONS"] = "true"
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_PATH", "GITHUB_ENV"):
        open(env[name], "a", encoding="utf-8").close()
    # The runner's inputs reach a composite action's steps only through expressions.
    for key in [k for k in env if k.startswith("INPUT_")]:
        del env[key]

    steps = runs.get("steps") or []
    scripts = []
    for index, step in enumerate(steps):
        where = f"step {index + 1} ({step.get('name', step.get('id', '?'))})"
        unknown = set(step) - {"name", "id", "shell", "run", "env", "working-directory"}
        if unknown:
            die(f"{where}: unsupported keys {sorted(unknown)}")
        if step.get("shell") != "bash" or "run" not in step:
            die(f"{where}: only `shell: bash` steps with `run:` are supported")
        if EXPRESSION.search(step["run"]):
            die(f"{where}: an expression inside run: (pass it through env: instead)")
        script = os.path.join(temp, f"step-{index + 1}.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(step["run"])
        scripts.append(script)

    if shellcheck:
        # `shell: bash` is `bash -eo pipefail`: check as bash.
        result = subprocess.run([shellcheck, "--shell=bash", *scripts], check=False)
        if result.returncode != 0:
            die("shellcheck found problems in the run: scripts above (step-N.sh is step N)")
        print(f"run-action: shellcheck passed on {len(scripts)} run: scripts", file=sys.stderr)

    if only is not None and not any(step.get("id") == only for step in steps):
        die(f"no step has the id {only}")
    results = {}
    failed = 0
    for index, (step, script) in enumerate(zip(steps, scripts)):
        where = f"step {index + 1} ({step.get('name', step.get('id', '?'))})"
        if only is not None and step.get("id") != only:
            continue
        step_env = dict(env)
        with open(env["GITHUB_PATH"], encoding="utf-8") as f:
            added = [line for line in f.read().splitlines() if line]
        step_env["PATH"] = os.pathsep.join(list(reversed(added)) + [env["PATH"]])
        for key, value in (step.get("env") or {}).items():
            step_env[key] = evaluate(value, inputs, results, where)
        output_file = os.path.join(temp, f"output-{index + 1}")
        open(output_file, "w", encoding="utf-8").close()
        step_env["GITHUB_OUTPUT"] = output_file
        cwd = os.path.join(
            env["GITHUB_WORKSPACE"],
            evaluate(step.get("working-directory", "."), inputs, results, where),
        )
        print(f"::group::{step.get('name', where)}", flush=True)
        status = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=cwd, env=step_env, check=False
        ).returncode
        print("::endgroup::", flush=True)
        if "id" in step:
            results[step["id"]] = parse_outputs(output_file)
        if status != 0:
            print(f"run-action: {where} failed with exit status {status}", file=sys.stderr)
            failed = status
            break

    # As on a runner, the outputs of the steps that ran are the action's outputs even on failure.
    for name, spec in (action.get("outputs") or {}).items():
        print(f"output {name}={evaluate(spec.get('value', ''), inputs, results, 'outputs')}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
