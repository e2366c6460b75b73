#!/usr/bin/env python3
"""Renders a kustomize directory of deploy/k8s into its Kubernetes objects.

    scripts/render-k8s.py deploy/k8s/overlays/dev            # YAML, as `kubectl kustomize` prints it
    scripts/render-k8s.py --json deploy/k8s/overlays/prod    # a JSON array of the objects

The rendering is kustomize's own: `kubectl kustomize DIR` (kubectl embeds kustomize), or a standalone
`kustomize build DIR` when there is no kubectl (KUSTOMIZE=/path/to/kustomize picks one). This script only
finds the renderer and turns its output into JSON (with PyYAML) for scripts/check-k8s and
Tests/NodeTests/DeploymentManifestTests.swift.

Exit status: 0 rendered, 1 the renderer refused the directory, 64 usage, 69 no renderer or no PyYAML.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

EX_UNAVAILABLE = 69


def renderer(directory):
    """The command that renders `directory`, or None when no kustomize is installed."""
    explicit = os.environ.get("KUSTOMIZE")
    if explicit:
        return [explicit, "build", directory]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", directory]
    if shutil.which("kustomize"):
        return ["kustomize", "build", directory]
    return None


def render(directory):
    """The rendered YAML text of `directory` (exits on failure)."""
    command = renderer(directory)
    if command is None:
        print("render-k8s: neither kubectl nor kustomize is installed (set KUSTOMIZE=/path/to/kustomize)",
              file=sys.stderr)
        sys.exit(EX_UNAVAILABLE)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"render-k8s: {' '.join(command)} failed:\n{result.stderr}", file=sys.stderr)
        sys.exit(1)
    return result.stdout


def objects(text):
    """The objects of a multi-document YAML stream, empty documents left out."""
    try:
        import yaml
    except ImportError:
        print("render-k8s: PyYAML is missing (python3 -m pip install pyyaml; scripts/check-k8s installs it)",
              file=sys.stderr)
        sys.exit(EX_UNAVAILABLE)
    return [document for document in yaml.safe_load_all(text) if document is not None]


def main():
    parser = argparse.ArgumentParser(description="Render a deploy/k8s kustomize directory.")
    parser.add_argument("--json", action="store_true", help="print a JSON array of the objects")
    parser.add_argument("directory", help="a directory with a kustomization.yaml")
    arguments = parser.parse_args()
    if not os.path.isfile(os.path.join(arguments.directory, "kustomization.yaml")):
        print(f"render-k8s: {arguments.directory} has no kustomization.yaml", file=sys.stderr)
        sys.exit(64)
    text = render(arguments.directory)
    if arguments.json:
        json.dump(objects(text), sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
