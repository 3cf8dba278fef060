//  apps - app names for release-keeper: the naming rule and random names
//
//  Random names follow Heroku's adjective-noun-NNNN. They are drawn from a
//  generator seeded by the creating message's id rather than from the
//  actor's own rng: that rng also serves ids of replies to non-journaled
//  requests (status, app.get, ping), so its state when a journaled
//  app.create is replayed after a restart is not the one it had live.
//  The message id is journaled with the message, so the name it gives is.

#include "apps.h"
#include "../common/act_base.h"

#include <stdio.h>
#include <string.h>

#define RANDOM_SUFFIX_MOD 10000     // NNNN: four digits
#define FNV_OFFSET        0xcbf29ce484222325ULL     // FNV-1a, 64-bit
#define FNV_PRIME         0x100000001b3ULL

//  Words of at most 10 letters: 10 + 1 + 10 + 1 + 4 fits REL_APP_NAME_MAX.
static const char *const s_adjectives [] = {
    "ancient", "autumn", "billowing", "bitter", "black", "blue", "bold", "brave",
    "calm", "cold", "cool", "crimson", "damp", "dark", "dawn", "delicate",
    "divine", "dry", "empty", "falling", "fancy", "floral", "fragrant", "frosty",
    "gentle", "green", "hidden", "holy", "icy", "jolly", "late", "lingering",
    "little", "lively", "long", "lucky", "misty", "morning", "muddy", "nameless",
    "noisy", "odd", "old", "orange", "patient", "plain", "polished", "proud",
    "purple", "quiet", "rapid", "red", "restless", "rough", "round", "royal",
    "shiny", "shy", "silent", "small", "snowy", "soft", "solitary", "sparkling",
    "spring", "square", "steep", "still", "summer", "sharp", "sweet", "throbbing",
    "tight", "tiny", "twilight", "wandering", "weathered", "white", "wild", "winter",
    "wispy", "withered", "yellow", "young",
};
static const char *const s_nouns [] = {
    "art", "band", "bar", "base", "bird", "block", "boat", "bonus",
    "bread", "breeze", "brook", "bush", "butterfly", "cake", "cell", "cherry",
    "cloud", "credit", "darkness", "dawn", "dew", "disk", "dream", "dust",
    "feather", "field", "fire", "firefly", "flower", "fog", "forest", "frog",
    "frost", "glade", "glitter", "grass", "hall", "hat", "haze", "heart",
    "hill", "king", "lab", "lake", "leaf", "limit", "math", "meadow",
    "mode", "moon", "morning", "mountain", "mouse", "mud", "night", "paper",
    "pine", "poetry", "pond", "queen", "rain", "recipe", "resonance", "rice",
    "river", "salad", "scene", "sea", "shadow", "shape", "silence", "sky",
    "smoke", "snow", "snowflake", "sound", "star", "sun", "sunset", "surf",
    "term", "thunder", "tooth", "tree", "truth", "union", "unit", "violet",
    "voice", "water", "waterfall", "wave", "wildflower", "wind", "wood",
};

#define COUNT(a) (sizeof (a) / sizeof (a) [0])

bool
rel_app_name_valid (const char *name, char why [REL_APP_WHY_MAX])
{
    size_t len = strlen (name);
    if (len < REL_APP_NAME_MIN || len > REL_APP_NAME_MAX) {
        snprintf (why, REL_APP_WHY_MAX, "it must be %d to %d characters long",
                  REL_APP_NAME_MIN, REL_APP_NAME_MAX);
        return false;
    }
    if (name [0] < 'a' || name [0] > 'z') {
        snprintf (why, REL_APP_WHY_MAX, "it must start with a lowercase letter");
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            snprintf (why, REL_APP_WHY_MAX,
                      "it may hold only lowercase letters, digits and dashes");
            return false;
        }
    }
    return true;
}

void
rel_app_name_random (uint64_t seed, unsigned attempt, char *out, size_t len)
{
    act_rng_t rng;
    act_rng_init (&rng, seed + attempt);
    const char *adjective = s_adjectives [act_rng_next (&rng) % COUNT (s_adjectives)];
    const char *noun = s_nouns [act_rng_next (&rng) % COUNT (s_nouns)];
    unsigned suffix = (unsigned) (act_rng_next (&rng) % RANDOM_SUFFIX_MOD);
    snprintf (out, len, "%s-%s-%04u", adjective, noun, suffix);
}

uint64_t
rel_app_seed_from_id (const char *id)
{
    uint64_t hash = FNV_OFFSET;
    for (const char *p = id; *p; p++) {
        hash ^= (unsigned char) *p;
        hash *= FNV_PRIME;
    }
    return hash;
}
