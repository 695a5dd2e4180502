#!/usr/bin/env bash
# Builds the local images (placeholder until the foundation work fills it in).
exit 0
