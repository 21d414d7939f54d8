"""`target-aep-setup`: turn an empty AEP sandbox into a destination ready for target-aep, as code.

Modules, in the order a run uses them:

- `cli.py`: flags, reading the target's config (file or `ENV`), printing the plan, exit codes;
- `desired.py`: what target-aep needs in the sandbox (names, classes, field groups, schemas, datasets, flows);
- `field_group.py`: the tenant field group "Stripe Object Details", generated from the mapping's own table of
  tenant fields (`target_aep.xdm.stripe_fields.TENANT_FIELDS`), and how an existing one may grow;
- `platform_api.py`: the Schema Registry, Identity Service, Catalog and Flow Service calls, over the target's
  own gateway (headers, retries, token refresh), with errors that name the permission to add;
- `discovery.py`: what already exists (read only);
- `plan.py` / `planner.py`: the plan model, and desired vs. found -> the plan;
- `apply.py`: carrying the plan out in order, reporting what was done if it stops half-way.
"""
