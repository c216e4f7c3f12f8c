# Empty dependencies file for edgelstm_core_tests.
# This may be replaced when dependencies are built.
