"""The scenario file and its schema: the validated ``Scenario``, the delivery-profile catalog,
loading with ``--set`` overrides, and the generated parameter reference."""
