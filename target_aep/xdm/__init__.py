"""Stripe records -> XDM, and XDM validation.

    mapper = build_mapper("charges", schema, tenant_id="acme")
    xdm = mapper.map(record)
    problems = XdmValidator.for_schema(schema).errors(xdm)

See docs/xdm-mapping.md for the mapping of every stream, the `mappings` override format and the `_id` rule.
"""

from target_aep.xdm.mapper import XdmMapper, build_mapper
from target_aep.xdm.overrides import MappingConfigError
from target_aep.xdm.validation import XdmValidator

__all__ = ["MappingConfigError", "XdmMapper", "XdmValidator", "build_mapper"]
