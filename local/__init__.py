"""Docker-free local mode: moto server + a local API gateway serving template.yaml's routes."""
