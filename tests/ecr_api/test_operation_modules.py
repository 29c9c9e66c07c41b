"""The lazy operation table names, for every operation of the model, the module that serves it."""

from __future__ import annotations

import subprocess
import sys

import botocore.session

from ecr_mock.protocols.ecr_api.ecr import MODULE_OF, MODULES, all_handlers, handlers


def test_every_model_operation_has_a_module_that_serves_it() -> None:
    table = all_handlers()
    model = botocore.session.get_session().get_service_model("ecr")
    assert set(MODULE_OF) == set(model.operation_names) == set(table)
    for operation, module in MODULE_OF.items():
        assert table[operation].__module__ == f"ecr_mock.protocols.ecr_api.ecr.{module}"
    for module, operations in MODULES.items():
        assert sorted(handlers(module)) == sorted(operations)
    count = len(model.operation_names)
    assert sum(len(ops) for ops in MODULES.values()) == len(MODULE_OF) == count


def test_a_call_imports_only_the_module_it_needs() -> None:
    code = (
        "import sys, json\n"
        "from ecr_mock import Backend\n"
        "from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle\n"
        "status, _ = handle(Backend(), TARGET_PREFIX + 'CreateRepository',"
        " json.dumps({'repositoryName': 'lazy'}).encode(), {})\n"
        "loaded = sorted(m.rsplit('.', 1)[1] for m in sys.modules"
        " if m.startswith('ecr_mock.protocols.ecr_api.ecr.'))\n"
        "print(status, ','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["200", "repositories"]
