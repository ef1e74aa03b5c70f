"""The demo school behind ``make run``: Reception to Year 6, staff, pupils, parents and a lively week.

Seeded, so the school, its people and the printed emails are the same every time;
pupil codes are the exception, drawn at random like real ones (a pupil's code is their
whole sign-in, so a demo left running must not have codes anyone could work out), and
printed after seeding. Every account shares one password, hashed once, so seeding
takes a second or two.
"""

from __future__ import annotations

import asyncio
import io
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import hash_password
from server.db.models import (
    Activity,
    Award,
    Conversation,
    GuardianLink,
    Like,
    Media,
    Message,
    PolicyAcceptance,
    Post,
    PostMedia,
    PostStudent,
    School,
    SchoolClass,
    SchoolEvent,
    Skill,
    StaffClass,
    Student,
    Submission,
    User,
)
from server.media.files import JPEG, store_image
from server.media.storage import LocalStorage
from server.messaging.office import office_notice_text
from server.school import seed
from server.school.provisioning import create_school
from server.timeutil import utcnow

DEMO_PASSWORD = "homeroom-demo"
CLASSES = ("Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6")
TEACHERS = (
    "Mrs Patel",
    "Mr Okafor",
    "Ms Nowak",
    "Mr Hughes",
    "Mrs García",
    "Miss Begum",
    "Mr Thompson",
)
FIRST_NAMES = (
    "Amir", "Olivia", "Noah", "Aisha", "Leo", "Zofia", "Mohammed", "Isla", "Oscar", "Maya", "Harry",
    "Fatima", "Jack", "Amelia", "Yusuf", "Lily", "Ethan", "Sofia", "Kacper", "Ava", "Ibrahim", "Grace",
    "Lucas", "Hana", "Theo", "Chloe", "Arjun", "Emily", "Daniel", "Zara", "Samuel", "Ella", "Adam",
    "Freya", "Musa", "Ruby", "Oliver", "Alicja", "George", "Priya", "Henry", "Mia", "Kai", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Khan", "Smith", "Kowalski", "Ahmed", "Jones", "Nowak", "Hussain", "Brown", "Williams", "Ali",
    "Taylor", "Wilson", "Begum", "Evans", "Lewandowski", "Martínez", "Rahman", "Thomas", "Roberts",
    "Okafor", "Patel", "Walker", "Wright", "Sánchez", "Chowdhury", "Green", "Popescu", "Hall",
)  # fmt: skip
# Most families read English; the rest a spread of the languages UK schools meet most.
PARENT_LANGUAGES = ("en",) * 10 + (
    "es",
    "es",
    "pl",
    "pl",
    "ur",
    "ur",
    "ar",
    "bn",
    "ro",
    "pt",
    "ca",
)


@dataclass
class DemoLogins:
    """What ``python -m server demo`` prints."""

    password: str = DEMO_PASSWORD
    staff: list[tuple[str, str]] = field(default_factory=list)  # (role and name, email)
    parents: list[tuple[str, str]] = field(default_factory=list)  # (description, email)
    pupils: list[tuple[str, str, str]] = field(default_factory=list)  # (description, class code, pupil code)


async def seed_demo(
    session: AsyncSession, pupils_per_class: int = 25, media_dir: Path | None = None
) -> DemoLogins:
    """Create the demo school in an empty database and return its logins.

    With ``media_dir`` the week's posts carry a few generated photos stored there.
    """
    rng = random.Random(2026)
    logins = DemoLogins()
    school, admin = await create_school(
        session,
        name="Riverside Primary School",
        admin_name="Mrs Adebayo (Head)",
        admin_email="head@riverside.example",
        admin_password=DEMO_PASSWORD,
    )
    school.office_phone = "01632 960123"
    school.office_email = "office@riverside.example"
    logins.staff.append(("admin: Mrs Adebayo (Head)", admin.email or ""))
    password_hash = await hash_password(DEMO_PASSWORD)

    year4_teacher: User | None = None
    year4_families: list[tuple[Student, User]] = []
    teachers: list[User] = []
    classes: list[SchoolClass] = []
    for position, name in enumerate(CLASSES, start=1):
        code = f"RIV{position}{name[-1].upper()}"
        classes.append(await seed.add_class(session, school, name, code=code, position=position))

    for index, (school_class, teacher_name) in enumerate(zip(classes, TEACHERS, strict=True)):
        email = f"{teacher_name.split()[-1].lower().replace('í', 'i')}@riverside.example"
        teacher = await seed.add_user(
            session, school, "teacher", teacher_name, email=email, password_hash=password_hash
        )
        teachers.append(teacher)
        session.add(StaffClass(user_id=teacher.id, class_id=school_class.id))
        if index == 4:
            year4_teacher = teacher
        if index in (0, 4):
            logins.staff.append((f"teacher: {teacher_name}, {school_class.name}", email))
    support = await seed.add_user(
        session,
        school,
        "teacher",
        "Mr Ellis (TA)",
        email="ellis@riverside.example",
        password_hash=password_hash,
    )
    await seed.add_user(
        session,
        school,
        "office",
        "Mrs Doyle (Office)",
        email="office@riverside.example",
        password_hash=password_hash,
    )
    session.add_all(StaffClass(user_id=support.id, class_id=c.id) for c in classes[:2])
    logins.staff.append(("office: Mrs Doyle", "office@riverside.example"))

    parent_number = 0
    shown_languages: set[str] = set()
    for class_index, school_class in enumerate(classes):
        names = [rng.choice(FIRST_NAMES) for _ in range(pupils_per_class)]
        if class_index % 2 == 0:  # some classes have two pupils sharing a first name
            names[1] = names[0]
        class_codes: set[str] = set()
        for pupil_index, first in enumerate(names):
            last = rng.choice(LAST_NAMES)
            photo_consent = rng.random() > 0.12
            rng.randrange(
                10, 99
            )  # what pupil codes once drew from the seed; kept, so the rest stays as it was
            [pupil] = await seed.add_pupils(
                session,
                school_class,
                [(first, last)],
                photo_consent=photo_consent,
                la_care=class_index == 3 and pupil_index == 5,
                taken=class_codes,
            )
            pupil.avatar = {
                "body": "round",
                "eyes": "two",
                "mouth": "smile",
                "colour": rng.choice(["teal", "coral", "violet", "sun", "leaf"]),
                "accessory": "none",
            }
            if class_index == 4 and pupil_index == 0:
                logins.pupils.append(
                    (
                        f"pupil: {first} {last[0]}. in {school_class.name}",
                        school_class.class_code,
                        pupil.student_code,
                    )
                )
            for guardian in range(1 if pupil_index % 3 else 2):
                parent_number += 1
                language = PARENT_LANGUAGES[parent_number % len(PARENT_LANGUAGES)]
                email = f"parent{parent_number}@families.example"
                parent = await seed.add_user(
                    session,
                    school,
                    "parent",
                    f"{rng.choice(FIRST_NAMES)} {last}",
                    email=email,
                    password_hash=password_hash,
                    language=language,
                )
                seed.link_guardians(session, [(parent, pupil)])
                session.add(PolicyAcceptance(user_id=parent.id, version=school.policy_version))
                if (
                    class_index == 4
                    and guardian == 0
                    and language in {"en", "es", "ur", "pl"} - shown_languages
                ):
                    shown_languages.add(language)
                    year4_families.append((pupil, parent))
                    logins.parents.append(
                        (
                            f"parent of {first} {last[0]}., {school_class.name}, reads {language}",
                            email,
                        )
                    )
    await session.flush()
    assert year4_teacher is not None
    await _seed_conversations(session, school, year4_teacher, year4_families)
    await seed_week(session, school.id, admin, classes, teachers, rng, media_dir)
    await seed_home_learning(session, classes[4])
    await seed_events(session, school, admin, classes[4], year4_teacher)
    return logins


async def seed_events(
    session: AsyncSession, school: School, admin: User, school_class: SchoolClass, teacher: User
) -> None:
    """The coming weeks' events: a trip asking for consent, PE every Monday, an assembly, parents' evening."""
    zone = ZoneInfo(school.timezone)
    today = utcnow().astimezone(zone).date()

    def at(days: int, hour: int, minute: int = 0, weekday: int | None = None) -> datetime:
        day = today + timedelta(days=days)
        if weekday is not None:
            day += timedelta(days=(weekday - day.weekday()) % 7)
        return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)

    evening_before, morning_of = 15 * 3600, 90 * 60  # 18:00 the day before, 07:30, for 09:00
    trip = at(7, 9, weekday=3)
    session.add_all(
        [
            SchoolEvent(
                school_id=school.id,
                scope="class",
                class_id=school_class.id,
                author_id=teacher.id,
                title="Trip to the Science Museum",
                details="We travel by coach and are back by 15:00. Please send a packed lunch and a coat.",
                location="Science Museum, London",
                starts_at=trip,
                ends_at=trip + timedelta(hours=6),
                rsvp="consent",
                respond_by=trip - timedelta(days=3),
                reminders=[evening_before, morning_of],
            ),
            SchoolEvent(
                school_id=school.id,
                scope="class",
                class_id=school_class.id,
                author_id=teacher.id,
                title="PE day: please come in PE kit",
                starts_at=at(1, 9, weekday=0),
                ends_at=at(1, 10, weekday=0),
                recurrence="weekly",
                repeat_until=today + timedelta(days=84),
                reminders=[evening_before],
            ),
            SchoolEvent(
                school_id=school.id,
                scope="school",
                author_id=admin.id,
                title="Harvest assembly",
                details="Families are welcome to join us in the hall.",
                location="School hall",
                starts_at=at(1, 9, weekday=4),
                ends_at=at(1, 9, 45, weekday=4),
            ),
            SchoolEvent(
                school_id=school.id,
                scope="school",
                author_id=admin.id,
                title="Parents' evening",
                details="Ten minutes with your child's teacher. Tell us if you can come.",
                location="Classrooms",
                starts_at=at(14, 15, 30, weekday=2),
                ends_at=at(14, 19, weekday=2),
                rsvp="attendance",
                reminders=[24 * 3600],
            ),
        ]
    )


async def _seed_conversations(
    session: AsyncSession, school: School, teacher: User, families: list[tuple[Student, User]]
) -> None:
    """A few parent–teacher conversations: an everyday exchange, a sickness note, a reminder."""
    now = utcnow().replace(second=0, microsecond=0)
    days_ago = now - timedelta(days=2)
    scripts: list[list[tuple[str, str, timedelta]]] = [
        [
            (
                "parent",
                "Hello! {child} loved the science experiment today. What was the book you read?",
                timedelta(),
            ),
            ("teacher", "So glad to hear it! It was The Iron Man by Ted Hughes.", timedelta(minutes=25)),
        ],
        [("parent", "{child} is off sick today with a temperature, sorry.", timedelta(days=1, hours=-8))],
        [
            (
                "teacher",
                "Could you sign and return the museum trip form by Friday? Thank you!",
                timedelta(days=1),
            )
        ],
    ]
    # The parents whose logins the demo prints, so each has something to open.
    for (pupil, parent), script in zip(families, scripts, strict=False):
        conversation = Conversation(
            school_id=school.id,
            student_id=pupil.id,
            guardian_id=parent.id,
            staff_id=teacher.id,
            created_at=days_ago,
        )
        session.add(conversation)
        await session.flush()
        last = days_ago
        for who, text, offset in script:
            last = days_ago + offset
            sender = parent if who == "parent" else teacher
            body = text.format(child=pupil.first_name)
            sickness = "sick" in body
            session.add(
                Message(
                    conversation_id=conversation.id,
                    sender_id=sender.id,
                    text=body,
                    lang="en",
                    topic="sickness" if sickness else None,
                    created_at=last,
                    read_at=last + timedelta(minutes=5) if who == "parent" else None,
                )
            )
            if sickness:
                # The notice in the parent's own language when its catalog has it, as the server writes it.
                notice = office_notice_text("sickness", school.office_phone, parent.language)
                english = office_notice_text("sickness", school.office_phone)
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        text=notice,
                        lang=parent.language if notice != english else "en",
                        system=True,
                        topic="office:sickness",
                        created_at=last,
                    )
                )
        conversation.last_message_at = last
    await session.flush()


CLASS_NEWS = (
    "We planted sunflower seeds today. Ask your child how they will look after theirs!",
    "Brilliant reading this morning: everyone read a page aloud to a partner.",
    "PE is on Thursday this week. Please send a named kit bag.",
    "Our times tables challenge is going brilliantly. Keep practising at home!",
    "We made a story map of The Gruffalo. Come and see it on our classroom wall.",
    "Library books go back on Friday; please help your child find theirs.",
    "Science today: which materials float? Lots of splashing and careful recording.",
    "Well done to our table monitors for keeping the classroom so tidy this week.",
    "We practised our class assembly song. It sounds wonderful!",
    "Reminder: the trip letter needs returning by Wednesday.",
    "Art afternoon: we printed autumn leaves in bright colours.",
    "Maths: we measured things around the classroom with rulers and metre sticks.",
    "Spellings for next week are in book bags.",
    "A huge thank you for the junk modelling boxes. We built a whole city!",
)
SCHOOL_NEWS = (
    "Sports day results: well done to every runner, jumper and thrower! Blue team won by two points.",
    "The book fair is in the hall after school on Wednesday and Thursday.",
    "Thank you for the harvest festival donations: 214 items went to the local food bank.",
    "Flu vaccinations are next Tuesday. Please return the consent forms to the office.",
    "Our school council met today and chose new games for the playground.",
)
PHOTO_SCENES = (
    ((135, 190, 235), (86, 160, 80)),
    ((250, 200, 120), (200, 120, 60)),
    ((180, 160, 230), (60, 120, 160)),
)


def _demo_picture(rng: random.Random) -> bytes:
    """A small generated 'photo' (sky, sun and hills) for demo posts."""
    from PIL import Image, ImageDraw

    sky, ground = rng.choice(PHOTO_SCENES)
    picture = Image.new("RGB", (960, 720), sky)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((700, 80, 820, 200), fill=(255, 220, 90))
    for left in range(-200, 960, 320):
        top = rng.randint(380, 520)
        draw.ellipse((left, top, left + 560, top + 600), fill=ground)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _store_demo_photo(storage: LocalStorage, rng: random.Random, school_id: int, uploader_id: int) -> Media:
    key = secrets.token_urlsafe(24)
    stored = store_image(io.BytesIO(_demo_picture(rng)), JPEG, storage, key)
    return Media(
        school_id=school_id,
        uploader_id=uploader_id,
        key=key,
        kind="image",
        content_type=JPEG,
        file_name="photo.jpg",
        size=stored.size,
        width=stored.width,
        height=stored.height,
    )


def _school_hours_this_week(rng: random.Random, now: datetime, count: int) -> list[datetime]:
    """``count`` moments in the past week's school days (09:00–15:30 UTC), oldest first."""
    moments: list[datetime] = []
    while len(moments) < count:
        day = (now - timedelta(days=rng.randrange(7))).date()
        moment = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=rng.randrange(390))
        if day.weekday() < 5 and moment < now:
            moments.append(moment)
    return sorted(moments)


async def seed_week(
    session: AsyncSession,
    school_id: int,
    admin: User,
    classes: list[SchoolClass],
    teachers: list[User],
    rng: random.Random,
    media_dir: Path | None = None,
) -> None:
    """A week of class and school posts, likes and points, so the demo looks alive."""
    now = utcnow()
    pupils = list((await session.scalars(select(Student).where(Student.school_id == school_id))).all())
    links = list((await session.execute(select(GuardianLink.student_id, GuardianLink.guardian_id))).all())
    skills = list((await session.scalars(select(Skill).where(Skill.school_id == school_id))).all())
    guardians: dict[int, list[int]] = {}
    for student_id, guardian_id in links:
        guardians.setdefault(student_id, []).append(guardian_id)
    by_class: dict[int, list[Student]] = {}
    for pupil in pupils:
        by_class.setdefault(pupil.class_id, []).append(pupil)
    all_parents = sorted({g for ids in guardians.values() for g in ids})
    storage = LocalStorage(media_dir) if media_dir is not None else None

    plan: list[tuple[datetime, int | None]] = [(m, None) for m in _school_hours_this_week(rng, now, 3)]
    for position in range(len(classes)):
        plan += [(m, position) for m in _school_hours_this_week(rng, now, rng.randint(4, 6))]
    plan.sort(key=lambda item: item[0])
    likes: list[dict[str, object]] = []
    for when, index in plan:
        school_class = classes[index] if index is not None else None
        author = teachers[index] if index is not None else admin
        text = rng.choice(CLASS_NEWS if school_class else SCHOOL_NEWS)
        post = Post(
            school_id=school_id,
            scope="class" if school_class else "school",
            class_id=school_class.id if school_class else None,
            author_id=author.id,
            text=text,
            lang="en",
            created_at=when,
        )
        session.add(post)
        await session.flush()
        classmates = by_class[school_class.id] if school_class else []
        if storage is not None and (school_class is None or rng.random() < 0.4):
            photo = await asyncio.to_thread(_store_demo_photo, storage, rng, school_id, author.id)
            session.add(photo)
            await session.flush()
            session.add(PostMedia(post_id=post.id, media_id=photo.id, position=0))
        if classmates and rng.random() < 0.5:
            allowed = [p for p in classmates if p.photo_consent and not p.la_care]
            for pupil in rng.sample(allowed, min(len(allowed), rng.randint(1, 3))):
                session.add(PostStudent(post_id=post.id, student_id=pupil.id))
        audience = (
            sorted({g for p in classmates for g in guardians.get(p.id, [])}) if classmates else all_parents
        )
        likers = [g for g in audience if rng.random() < (0.4 if classmates else 0.15)]
        likes += [
            {"post_id": post.id, "user_id": g, "created_at": when + timedelta(minutes=5)} for g in likers
        ]
        post.like_count = len(likers)
    if likes:
        await session.execute(insert(Like), likes)

    awards: list[dict[str, object]] = []
    for index, school_class in enumerate(classes):
        for pupil in by_class.get(school_class.id, []):
            for when in _school_hours_this_week(rng, now, rng.randint(1, 5)):
                skill = rng.choice(skills)
                awards.append(
                    {
                        "school_id": school_id,
                        "student_id": pupil.id,
                        "class_id": school_class.id,
                        "skill_id": skill.id,
                        "points": skill.points,
                        "note": "",
                        "awarded_by": teachers[index].id,
                        "created_at": when,
                    }
                )
    if awards:
        await session.execute(insert(Award), awards)
    await session.flush()


async def seed_home_learning(session: AsyncSession, school_class: SchoolClass) -> None:
    """Two activities for a class, with work handed in: approved, waiting for review, and returned."""
    teacher_id = await session.scalar(
        select(StaffClass.user_id).where(StaffClass.class_id == school_class.id).order_by(StaffClass.user_id)
    )
    pupils = list(
        (
            await session.scalars(
                select(Student).where(Student.class_id == school_class.id).order_by(Student.id)
            )
        ).all()
    )
    now = utcnow().replace(microsecond=0)
    minibeast = Activity(
        school_id=school_class.school_id,
        class_id=school_class.id,
        title="Minibeast hunt",
        instructions=(
            "Look under a stone or a log with a grown-up. Draw what you find and write two facts about it."
        ),
        due_at=now + timedelta(days=3),
        created_by=teacher_id,
        created_at=now - timedelta(days=2),
    )
    reading = Activity(
        school_id=school_class.school_id,
        class_id=school_class.id,
        title="Reading diary",
        instructions="Read for ten minutes every day and tell us about your favourite character.",
        due_at=None,
        created_by=teacher_id,
        created_at=now - timedelta(days=1),
    )
    session.add_all([minibeast, reading])
    await session.flush()
    work = (
        (minibeast, "I found a woodlouse! It has 14 legs and it rolls into a ball.", "approved",
         "Brilliant facts, well done!"),
        (minibeast, "A snail. Snails have teeth on their tongue.", "pending", ""),
        (reading, "Paddington", "returned", "Can you tell me why you like him?"),
        (reading, "My favourite is Matilda because she loves books like me.", "pending", ""),
    )  # fmt: skip
    for number, (pupil, (activity, text, status, comment)) in enumerate(zip(pupils, work, strict=False)):
        handed_in = now - timedelta(hours=20 - number * 3)
        decided = status != "pending"
        session.add(
            Submission(
                school_id=school_class.school_id,
                activity_id=activity.id,
                student_id=pupil.id,
                text=text,
                status=status,
                comment=comment,
                decided_by=teacher_id if decided else None,
                decided_at=handed_in + timedelta(hours=2) if decided else None,
                created_at=handed_in,
            )
        )
