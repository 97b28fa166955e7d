"""The directory CSV's header line, and a two-service directory in that form, for tests that
import a small CSV."""

from __future__ import annotations

HEADER = ("id,name,organisation,description,categories,needs,min_age,max_age,postcode,address,"
          "service_area,delivery,cost,cost_details,when,accessibility,languages,referral,"
          "ehcp_required,transitions,url,phone,email,last_reviewed\n")

#: A leisure service for autistic children near E5 0RF, and a national online course for parents.
TWO_SERVICES_CSV = HEADER + (
    'S-001,Sensory Swim,Leisure,"Swimming for autistic children.",leisure,autism,5,16,E5 0RF,,,'
    'in_person,free,,weekends,sensory_friendly,,self,no,,,,,2025-06-01\n'
    'S-002,ADHD Course,Charity,"Online course for parents.",support_advice,ADHD,4,18,,,national,'
    'online,free,,evenings,,,self,no,,,,,2025-05-01\n'
)
