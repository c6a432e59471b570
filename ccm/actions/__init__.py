"""ccm.actions: what agents may do, and the lifecycle that lets them do it.

- :mod:`ccm.actions.registry`: the action registry (YAML, JSON Schema inputs);
- :mod:`ccm.actions.proposal`: signed proposals; :mod:`ccm.actions.identities`:
  registered agents and humans with their keys;
- :mod:`ccm.actions.lifecycle`: the :class:`~ccm.actions.lifecycle.Controller`
  (propose, evaluate, approve, execute, outcome, revert, close), durable in the
  store (:mod:`ccm.actions.records`, :mod:`ccm.actions.running`);
- :mod:`ccm.actions.executors`: dry-run, webhook and command executors, health probes;
- :mod:`ccm.actions.impact`: the engine's prediction for a proposal.

The submodules are imported explicitly (``from ccm.actions.lifecycle import
Controller``): the policy layer imports the registry and identities, and the
lifecycle imports the policy.
"""
