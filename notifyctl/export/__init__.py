"""Export an environment's desired infrastructure for other tools (Terraform).

`terraform.build(env)` maps bootstrap's specifications to Terraform blocks
(`syntax`), `hcl` and `tfjson` write them, `module.export_terraform` writes the
files and the function's package into a directory.
"""
