"""Git's smart HTTP face of the registry: ``protocol`` (dulwich over the hub's store), ``views``."""
