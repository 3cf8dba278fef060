//  test_journal - placeholder suite, filled in by its owner
#include "unit.h"
static void test_placeholder (void) { CHECK (1); }
static const unit_test_t s_tests [] = { UNIT_TEST (test_placeholder) };
UNIT_SUITE (unit_suite_journal, s_tests);
