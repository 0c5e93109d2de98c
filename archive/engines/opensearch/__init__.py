"""The OpenSearch engine: the archive's articles in a cluster, the store on the writing host the truth."""
