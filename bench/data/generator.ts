/*
 * Deterministic memo generator: the same seed and index always give the same memo, so a loaded
 * database can be reused across runs (see loader.ts) and query results compare between runs.
 *
 * Text is drawn word by word from Zipf-weighted vocabularies, as natural language is: a few
 * words are in most memos, most words in few. That spread is what makes search realistic: a
 * common word matches hundreds of thousands of memos, a rare one a few thousand.
 */

/** Bump when the output for a given seed changes: loaded databases with another version reload. */
export const GENERATOR_VERSION = 1;

export interface GeneratedMemo {
  readonly id: number;
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly category: string;
  readonly author: string;
  readonly createdAt: Date;
}

/** mulberry32: tiny, fast and good enough for benchmark data (not for anything secret). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples ranks 0..n-1 with P(k) ~ 1/(k+1)^s by binary search over the cumulative weights. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s);
      this.cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.cdf[k] /= sum;
  }

  sample(random: () => number): number {
    const u = random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// Ordered roughly by how often they appear in work notes: the Zipf rank is the list position.
export const ENGLISH_WORDS = `
the to and of a in for is on with that this we it be at from by are as will need check
meeting team project update review release server database deploy client issue bug fix
test data report plan week today tomorrow customer service api memo note task change
config error build user new next call send follow list design docs draft budget sprint
should before after about into when what more some all our your their can could would
backend frontend cache query index search latency throughput storage cluster network
backup restore migration schema table column version branch merge commit pipeline
monitor alert dashboard metric log trace incident outage rollback hotfix patch upgrade
invoice contract vendor proposal quarter goal roadmap milestone deadline priority
onboarding interview hiring feedback retro standup demo workshop training offsite
kubernetes docker container helm ingress volume secret certificate token password
payment checkout order shipping inventory warehouse refund discount coupon pricing
mobile android ios browser desktop tablet screen layout button form modal navigation
security audit compliance privacy policy gdpr encryption firewall access permission
performance benchmark profile memory cpu disk bandwidth timeout retry queue worker
kafka redis mariadb postgres mongo elastic nginx traefik prometheus grafana loki
analytics funnel retention churn cohort segment campaign newsletter webinar launch
translation localization korean english japanese spanish german french chinese
coffee lunch dinner travel flight hotel visa conference booth badge swag slides
reminder agenda minutes summary decision action owner estimate scope risk blocker
architecture diagram whiteboard prototype mockup wireframe sketch figma notion jira
laptop monitor keyboard headset license subscription renewal procurement approval
quarterly annual monthly weekly daily hourly urgent important optional pending done
refactor cleanup deprecate remove rename extract inline simplify document comment
throttle debounce pagination cursor keyset offset filter sort aggregate histogram
failover replica primary leader follower partition consumer producer broker topic
staging production sandbox preview canary bluegreen feature flag experiment variant
ticket escalation sla uptime downtime maintenance window freeze rollout rollback
garden bicycle umbrella violin pottery origami telescope lantern compass harbor
glacier canyon meadow orchard vineyard lighthouse windmill aqueduct citadel pagoda
saffron cardamom turmeric paprika nutmeg cinnamon oregano tarragon marjoram fennel
quokka axolotl pangolin narwhal capybara okapi wombat tapir manatee ocelot
`
  .trim()
  .split(/\s+/);

/** Nouns of Korean work notes; particles and endings are added by the sentence builder. */
export const KOREAN_NOUNS = `
회의 프로젝트 일정 서버 데이터베이스 배포 검토 보고서 고객 문서 테스트 버그 수정 요청
개발 디자인 기획 예산 계약 마감 목표 결과 분석 성능 보안 장애 복구 백업 모니터링
캐시 검색 인덱스 쿼리 로그 알림 대시보드 릴리스 버전 브랜치 파이프라인 빌드 환경
사용자 관리자 권한 인증 토큰 비밀번호 결제 주문 배송 재고 환불 할인 쿠폰 가격
모바일 화면 버튼 레이아웃 번역 한국어 영어 일본어 출장 항공권 호텔 발표 자료
점심 저녁 커피 휴가 교육 면접 채용 온보딩 피드백 회고 데모 워크숍 계획 우선순위
아키텍처 다이어그램 프로토타입 구독 갱신 승인 라이선스 노트북 모니터 키보드 헤드셋
카프카 레디스 쿠버네티스 컨테이너 인그레스 볼륨 인증서 방화벽 감사 개인정보 암호화
고양이 자전거 우산 바이올린 도자기 망원경 등대 풍차 과수원 포도밭 빙하 협곡 초원
`
  .trim()
  .split(/\s+/);

// [after a final consonant, after a vowel]: Korean picks the particle by the noun's last syllable.
const KOREAN_PARTICLES: readonly (readonly [string, string])[] = [
  ['은', '는'],
  ['이', '가'],
  ['을', '를'],
  ['으로', '로'],
  ['과', '와'],
  ['에', '에'],
  ['에서', '에서'],
  ['의', '의'],
  ['도', '도'],
  ['', ''],
];

function withParticle(noun: string, pair: readonly [string, string]): string {
  const last = noun.charCodeAt(noun.length - 1) - 0xac00;
  const closed = last >= 0 && last < 11172 && last % 28 !== 0;
  return noun + (closed ? pair[0] : pair[1]);
}
const KOREAN_ENDINGS = [
  '확인했습니다',
  '필요합니다',
  '진행 중입니다',
  '완료했습니다',
  '공유해 주세요',
  '검토 부탁드립니다',
  '다음 주까지 끝냅니다',
  '논의했습니다',
  '정리했습니다',
  '준비합니다',
];

export const TAGS = `work personal urgent backend frontend infra ops security finance hr sales
marketing design research idea todo bug feature meeting travel reading`
  .trim()
  .split(/\s+/);
export const CATEGORIES = ['work', 'personal', 'ideas', 'meetings', 'research', 'travel', 'finance', 'ops'];
const GIVEN = [
  'alex',
  'sam',
  'kim',
  'lee',
  'park',
  'choi',
  'jung',
  'kang',
  'yoon',
  'jordan',
  'taylor',
  'casey',
];

const englishZipf = new Zipf(ENGLISH_WORDS.length, 1.0);
const koreanZipf = new Zipf(KOREAN_NOUNS.length, 0.9);

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function englishWords(random: () => number, count: number): string {
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(ENGLISH_WORDS[englishZipf.sample(random)]);
  return words.join(' ');
}

function englishSentence(random: () => number): string {
  const s = englishWords(random, between(random, 6, 12));
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function koreanSentence(random: () => number): string {
  const parts: string[] = [];
  const n = between(random, 2, 4);
  for (let i = 0; i < n; i++)
    parts.push(withParticle(KOREAN_NOUNS[koreanZipf.sample(random)], pick(random, KOREAN_PARTICLES)));
  return `${parts.join(' ')} ${pick(random, KOREAN_ENDINGS)}.`;
}

function koreanTitle(random: () => number): string {
  const parts: string[] = [];
  const n = between(random, 2, 3);
  for (let i = 0; i < n; i++) parts.push(KOREAN_NOUNS[koreanZipf.sample(random)]);
  return parts.join(' ');
}

const EPOCH = Date.UTC(2024, 0, 1);

/**
 * Memo number `id` (1-based) of the data set `seed`. Independent of every other memo, so the
 * loader can generate any slice and a verifier can regenerate one memo without the rest.
 */
export function generateMemo(seed: number, id: number): GeneratedMemo {
  const random = prng((seed * 1_000_003 + id * 2_654_435_761) >>> 0);
  const lang = random();
  let title: string;
  const sentences: string[] = [];
  const count = between(random, 1, 3);
  if (lang < 0.6) {
    title = englishWords(random, between(random, 3, 7));
    for (let i = 0; i < count; i++) sentences.push(englishSentence(random));
  } else if (lang < 0.85) {
    title = koreanTitle(random);
    for (let i = 0; i < count; i++) sentences.push(koreanSentence(random));
  } else {
    // Mixed notes: Korean prose around English technical terms, as bilingual teams write.
    title = `${koreanTitle(random)} ${englishWords(random, 2)}`;
    for (let i = 0; i < count; i++) {
      sentences.push(i % 2 === 0 ? koreanSentence(random) : englishSentence(random));
    }
  }
  // An occasional ticket number: the rare, exact tokens users also search for.
  if (random() < 0.1) sentences.push(`Ticket ${between(random, 1000, 99999)}.`);
  const tagCount = between(random, 0, 3);
  const tags = new Set<string>();
  for (let i = 0; i < tagCount; i++) tags.add(pick(random, TAGS));
  return {
    id,
    title: `${title[0].toUpperCase()}${title.slice(1)}`.slice(0, 200),
    content: sentences.join(' '),
    tags: [...tags].sort(),
    priority: between(random, 1, 4),
    category: pick(random, CATEGORIES),
    author: `${pick(random, GIVEN)}.${between(random, 1, 40)}`,
    // Spread over two years, increasing with id like real inserts.
    createdAt: new Date(EPOCH + id * 37_000 + Math.floor(random() * 30_000)),
  };
}
