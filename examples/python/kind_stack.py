"""The whole memo service for a kind cluster, one manifest per object.

The same objects, byte for byte, as `npm run synth` of the memostack repository writes to
dist/kind (without the kustomization and secret files, which its main.ts adds).
Usage: python kind_stack.py <output folder>
"""

import sys

from cdk8s import App, YamlOutputType
from memostack import MemoStack, Profiles

app = App(
    outdir=sys.argv[1] if len(sys.argv) > 1 else "dist/kind",
    yaml_output_type=YamlOutputType.FILE_PER_RESOURCE,
    output_file_extension=".k8s.yaml",
)
MemoStack(app, "memo", profile=Profiles.KIND)
app.synth()
