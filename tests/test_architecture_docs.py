"""docs/architecture.md's layers picture is drawn from the import-linter contracts (config/architecture.py)."""

from config.architecture import DOC, block, layers, render


def test_the_picture_matches_the_contracts():
    assert block(DOC.read_text()) == render(), "run `make architecture` after changing the contracts"


def test_layers_put_a_forbidden_import_below():
    rules = [{"source_modules": ["core"], "forbidden_modules": ["accounts", "dbtools"]},
             {"source_modules": ["accounts"], "forbidden_modules": ["dbtools"]},
             {"source_modules": ["dbtools.query.runner"], "forbidden_modules": ["dbtools.query.api"]}]
    assert layers(["core", "accounts", "dbtools", "config"], rules) == [["config"], ["dbtools"], ["accounts"],
                                                                       ["core"]]
    assert layers(["a", "b"], [{"source_modules": ["a"], "forbidden_modules": ["b"]}]) == [["b"], ["a"]]


def test_the_picture_changes_with_the_contracts(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.importlinter]\nroot_packages = ["x", "y"]\n[[tool.importlinter.contracts]]\n'
                         'name = "x under y"\ntype = "forbidden"\nsource_modules = ["x"]\n'
                         'forbidden_modules = ["y"]\n')
    picture = render(pyproject)
    boxes = [line.strip("│ ") for line in picture.splitlines() if line.startswith("│") and line.endswith("│")]
    assert boxes == ["y", "x"]
    assert "✗ x under y" in picture and render() != picture
