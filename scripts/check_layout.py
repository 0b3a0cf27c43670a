#!/usr/bin/env python3
"""Checks the one-way include structure of the host and the metric/analysis families:
- a family under suites/<family>/ includes only the SDK (attrib/...), metric.h, analysis.h,
  progress.h, suites/common/ and its own folder; suites/common/ includes no family;
- harness/src/ includes no family (only suites/common/ and the catalogues' interfaces), so the
  host knows metrics and analyses only through metric.h, analysis.h and suites/catalogue.cpp.
Prints every offending include as FILE:LINE and exits 1 when there is one."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
interface = {"metric.h", "analysis.h", "progress.h"}
families = {p.name for p in (root / "suites").iterdir() if p.is_dir() and any(p.glob("*.cpp"))}
families.discard("common")
bad = []


def check(path, allowed):
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = include.match(line)
        if m and not allowed(m.group(1)):
            bad.append(f"{path.relative_to(root)}:{n}: includes \"{m.group(1)}\"")


for f in sorted((root / "suites").rglob("*.[ch]*")):
    rel = f.relative_to(root / "suites")
    if len(rel.parts) == 1:
        continue  # suites/catalogue.cpp lists the families
    own = rel.parts[0]
    check(f, lambda h, own=own: h.startswith("attrib/") or h in interface or
          h.startswith("common/") or (own != "common" and h.startswith(own + "/")))
for f in sorted((root / "harness" / "src").rglob("*.[ch]*")):
    check(f, lambda h: h.split("/")[0] not in families)

for b in bad:
    print(b)
print(f"layout: {len(bad)} offending includes in {len(families)} families + common + harness/src")
sys.exit(1 if bad else 0)
