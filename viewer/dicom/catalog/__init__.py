"""What indexing learns, as plain records: instances, the patient/study/series catalog, slice
stacks and their geometry."""
