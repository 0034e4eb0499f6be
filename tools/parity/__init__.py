"""``make parity``: rehearse the Lambda runtime from ``sam build`` output, without Docker.

For every function of the built template (docs/dependencies.md):

1. its code and layers are the build's own artifacts; a name provided by two
   of them (a layer shadowing another's package) fails the run, and so does a
   function whose code and layers exceed Lambda's 250 MB (:mod:`.build`);
2. every deployed wheel is read from its ``*.dist-info/WHEEL``: compiled ones must be
   cp313 or abi3, manylinux aarch64 of glibc 2.34 at most, pure ones ``py3-none-any``
   (:mod:`.wheels`); then the compiled ones are swapped for the same distribution and
   version built for this machine, nothing else changes;
3. the runtime's own packages come last on the path, as stand-ins that fail
   on import: the dependencies layer must provide boto3 (the runtime's copy
   differs by runtime version and region, so nothing may rely on it)
   (:mod:`.runtime`);
4. a clean interpreter of the runtime's Python (``-I -S``: standard library
   only) imports the handler and invokes it with its sample from ``events/``
   against moto, in pipeline order, each step fed by the previous one's
   output (:mod:`.rehearsal`).

Run ``python -m tools.parity --help`` for options.
"""
